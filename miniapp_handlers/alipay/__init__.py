"""Alipay mini-program client (python-alipay-sdk) and the phone envelope crypto."""
