"""The Hugging Face Hub protocol, so `huggingface_hub` (HF_ENDPOINT=<portal>) works through the gate.

See ../shared/HF-CONTRACT.md for what the client sends and expects. Every check is the portal's
own: the same selectors, policy, download services and audit events as the HTML pages.
"""
