"""Weight files: safetensors io with sha256 and atomic writes (``io``), and where a file is found (``resolve``)."""
