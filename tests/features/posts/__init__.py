"""The posts feature's use cases."""
