"""HTTP layer: one router per resource, thin handlers calling the pure modules."""
