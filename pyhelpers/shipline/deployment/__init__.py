"""The Production stage: deploy a registered task definition, know the truth, roll back on failure.

(Named `deployment` so that `shipline.deploy` stays the public function.)
"""
