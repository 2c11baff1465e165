"""Custom NLU components of the hotline pipeline (config.yml)."""
