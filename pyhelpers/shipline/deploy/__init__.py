"""The Production stage: deploy a registered task definition, know the truth, roll back on failure."""
