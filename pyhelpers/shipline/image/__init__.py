"""The Build stage: Dockerfile checks, building by git SHA, pushing to ECR, scan gates, promotion."""
