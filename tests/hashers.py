from django.contrib.auth.hashers import Argon2PasswordHasher


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 still, with a cost for tests: production's 100 MB per hash makes a suite crawl."""

    time_cost = 1
    memory_cost = 64
    parallelism = 1
