import io.shipline.StepSpec

/**
 * shiplineRetryOnAgentLoss(args) { ... }: runs the block again when its agent is lost (a reclaimed Spot
 * instance) or the controller restarted under it; with label, in node(label) inside the retry so the second
 * attempt gets a fresh agent. Failing steps are not retried. Parameters and an example:
 * shiplineRetryOnAgentLoss.txt.
 */
def call(Map args = [:], Closure body) {
    StepSpec spec = StepSpec.checked(this, 'shiplineRetryOnAgentLoss', args)
    String label = spec.withDefaults(args).label
    return retry(count: 2, conditions: [agent(), nonresumable()]) {
        label ? node(label) { body() } : body()
    }
}
