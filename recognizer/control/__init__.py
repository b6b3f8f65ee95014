"""The control Lambda (same image, other command): upload URLs, clip links and visit reports."""
