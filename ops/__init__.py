"""Operations: the load balancer's health endpoint (/healthz), request ids and the structured
(JSON) log lines that carry them."""
