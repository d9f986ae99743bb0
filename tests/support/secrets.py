"""Planted secrets: tests send these in every place a secret travels; no log line may contain them."""

PLANTED_SECRETS = (
    "sg-planted-bearer-7f3a9c1e5d",
    "sg-planted-apikey-42b8e0d6aa",
    "sg-planted-cookie-9c0ffee111",
    "sg-planted-password-5e5e5e5e",
)
