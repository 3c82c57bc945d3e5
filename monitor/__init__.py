"""Watch news section pages and feeds; report new, edited, removed and paywalled items."""

__version__ = "0.1.0"
