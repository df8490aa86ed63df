import io.shipline.StepSpec

/**
 * shiplinePipeline(args): the whole pipeline, defined once in shipline.yaml. The plan comes from
 * 'shipline pipeline plan'; this step only executes it with Jenkins primitives. Parameters, return value and
 * an example: shiplinePipeline.txt.
 */
Map call(Map args = [:]) {
    StepSpec spec = StepSpec.checked(this, 'shiplinePipeline', args)
    Map options = spec.withDefaults(args)
    Map plan = null
    Map image = [:]
    Map deploys = [:]
    shiplineRetryOnAgentLoss(label: options.label) {
        stage('Source') {
            checkout(scm)
            plan = shiplinePipelinePlan(config: options.config, branch: env.BRANCH_NAME, tag: env.TAG_NAME,
                                        changeId: env.CHANGE_ID)
        }
        stage('Build') {
            image = shiplinePublish(config: options.config)
        }
    }
    for (Map planned : plan.stages.findAll { !(it.kind in ['source', 'publish']) }) {
        Map current = planned
        stage(current.name) {
            if (current.kind == 'parallel') {
                parallel(current.branches.collectEntries { Map branch -> [(branch.name): {
                    runScript(options.label, branch, current.environment ?: '', image.image ?: '')
                }] })
            } else if (current.kind == 'approval') {
                timeout(time: current.timeout_seconds as int, unit: 'SECONDS') {
                    input(message: "Deploy ${image.image} to ${current.environment}?",
                          submitter: current.approvers ? current.approvers.join(',') : null)
                }
            } else if (current.kind == 'deploy') {
                // every service's lock, named by the plan: queued here, outside any node (no executor held);
                // the CLI's deploy lease guards each service beyond this controller too
                lock(resource: current.locks[0], extra: current.locks.drop(1).collect { [resource: it] }) {
                    Map release = deployOn(options, current, image.image, false)
                    while (release.paused) {  // deploy.pause_at: asked outside any node, then resumed
                        input(message: "${current.environment}: ${release.message}. Resume?")
                        release = deployOn(options, current, image.image, true)
                    }
                    deploys[current.environment] = release.record ?: release.services
                }
            }
        }
    }
    return [plan: plan, image: image.image, deploys: deploys]
}

/**
 * shiplineDeploy of the stage's services (all of them, in parallel, when the plan names several) on an agent of
 * `options.label` (archives the records, describes the build).
 */
private Map deployOn(Map options, Map stage, String image, boolean resume) {
    Map release = [:]
    shiplineRetryOnAgentLoss(label: options.label) {
        checkout(scm)
        release = shiplineDeploy(config: options.config, environment: stage.environment, service: stage.services,
                                 image: image, resume: resume)
    }
    return release
}

/** One of the team's test commands, as its own script file: user code by design, run as written. */
private void runScript(String label, Map branch, String environment, String image) {
    shiplineRetryOnAgentLoss(label: label) {
        checkout(scm)
        String file = "${pwd(tmp: true)}/shipline-${branch.name}.sh"
        writeFile(file: file, text: branch.script)
        withEnv(["SHIPLINE_SCRIPT=${file}", "SHIPLINE_IMAGE=${image}", "SHIPLINE_ENVIRONMENT=${environment}"]) {
            sh(label: 'shipline: team script', script: 'sh -e "$SHIPLINE_SCRIPT"')
        }
        junit(testResults: '**/test-results/**/*.xml', allowEmptyResults: true)
    }
}
