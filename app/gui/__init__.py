"""PySide6 desktop application (the only Qt code). Start with :func:`app.gui.application.run_gui`."""
