"""Shared helpers of the proxy integration tests (echo upstream, process control, raw HTTP)."""
