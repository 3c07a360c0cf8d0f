"""Policies, the attribute registry and rules, campaigns and grants (免申即享, 精准推送)."""
