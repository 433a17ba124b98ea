"""Who may spend what: quota rules and reservations, per-server policy."""
