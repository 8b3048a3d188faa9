"""OpenID Connect provider: single sign-on with the eID account for relying parties."""
