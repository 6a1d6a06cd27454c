"""Hashing of secrets (the SecretHasher port)."""
