"""social-archive's engine: capture, imports, index, exports, scheduler and the CLI."""

__version__ = "0.1.0"
TOOL = f"social-archive/{__version__}"
