"""The ECS part of the local emulation: service deployments, tasks as containers, target health."""
