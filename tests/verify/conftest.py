from tests.verify.apiserver import no_proxies, serve

__all__ = ["no_proxies", "serve"]
