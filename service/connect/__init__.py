"""Connecting people: onboarding (OAuth 2.0 + PKCE), the token vault, subscriptions per user."""
