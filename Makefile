# Two commands do all the set-up: `make demo` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.lock | cut -d' ' -f1)
DEMO_ENV := DEBUG=true

.PHONY: demo test install lint format lock migrate serve-prod load-test

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

migrate: $(STAMP)
	mkdir -p var
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py load_reference_data

demo: migrate
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo --sample-enterprises 1200
	@echo ""
	@echo "演示账户（密码均为 Demo@2026）："
	@echo "  admin      国家高级管理员（另需动态口令：验证器密钥 SMEDEMOSMEDEMOSMEDEMOSMEDEMOSMED，"
	@echo "             或运行 DEBUG=true .venv/bin/python manage.py second_factor_code admin 查看当前口令）"
	@echo "  zhejiang   地方管理员（浙江省）"
	@echo "  ningbo     地方管理员（宁波市）"
	@echo "  guangdong  地方管理员（广东省）"
	@echo "  33029997   企业用户（宁波康尔企业，浙江省 宁波市 镇海区）"
	@echo "  44010001   企业用户（广州明德机械有限公司，广东省 广州市）"
	@echo "打开 http://127.0.0.1:8000/"
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

# Production on this machine (README "Production"): needs SECRET_KEY and DATABASE_URL (PostgreSQL),
# and REDIS_URL for the Celery worker and beat; gunicorn listens on GUNICORN_BIND (127.0.0.1:8000).
serve-prod: $(STAMP)
	bin/serve-prod

# The deadline-day benchmark (docs/benchmarks.md): DATABASE_URL names a database generate_dataset
# made; it starts its own gunicorn on port 8077. Options: LOAD_ARGS="--users 50 --seconds 60".
load-test: $(STAMP)
	bin/load-test $(LOAD_ARGS)

# SECRET_KEY is only for the test run; with DATABASE_URL=postgres://... the suite runs on PostgreSQL.
test: $(STAMP)
	SECRET_KEY=test-only-secret-key $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin every package after a change of pyproject.toml.
lock:
	rm -rf /tmp/sme-lock && $(PYTHON) -m venv /tmp/sme-lock
	/tmp/sme-lock/bin/pip install --quiet "$$(pwd)[dev]"
	( echo "# Pinned versions of every package the platform and its tests install (make installs from this file)."; \
	  echo "# Regenerate after changing pyproject.toml: make lock"; \
	  /tmp/sme-lock/bin/pip freeze --exclude sme-monitor ) > requirements.lock
