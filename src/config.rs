//! `.sops.yaml` (placeholder, being written).
