__version__ = "0.1.0"
#: The name ctk is published under on the Python package index (the command is ``ctk``).
DISTRIBUTION = "ctk-confluence"
