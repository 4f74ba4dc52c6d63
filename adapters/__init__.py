"""Platform adapters: platform events in, core calls out."""
