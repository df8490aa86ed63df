"""The Jenkins side of shipline.

- `spec`: the Jenkins step spec (resources/io/shipline/steps.json and vars/<step>.txt), generated from the
  one parameter spec (`shipline.commands.COMMANDS`): `python -m shipline.jenkins.spec`;
- `client`: lint a declarative Jenkinsfile and trigger a job through the controller's REST API.
"""
