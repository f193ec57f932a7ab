#!/usr/bin/env python3
"""Signs a webhook payload the way Stripe does, independently of the engine's Rust code.

Usage: stripe_sign.py SECRET TIMESTAMP < body  ->  prints the Stripe-Signature header value.
The scheme (docs.stripe.com/webhooks#verify-manually): v1 = hex(HMAC-SHA256(secret, f"{t}.{body}")).
"""
import hashlib
import hmac
import sys

secret, timestamp = sys.argv[1], sys.argv[2]
body = sys.stdin.buffer.read()
digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
print(f"t={timestamp},v1={digest}")
