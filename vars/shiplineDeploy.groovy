import io.shipline.CliStep
import io.shipline.StepSpec

/**
 * shiplineDeploy(args): 'shipline deploy' on this agent: deploy a release to an environment and judge success
 * on the deployment this run created, holding the service's lock (one deploy per service at a time), then
 * archive the deployment record and describe the build. Parameters, return value and an example:
 * shiplineDeploy.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    Map options = StepSpec.checked(this, 'shiplineDeploy', args).withDefaults(args)
    String resource = shiplineConfigCheck(config: options.config).locks[options.environment]
    if (!resource) {
        error("shiplineDeploy: no environment '${options.environment}' in ${options.config}")
    }
    Map release = null
    try {
        lock(resource: resource) {
            release = CliStep.run(this, 'shiplineDeploy', args)
        }
    } catch (failure) {
        currentBuild.description = "${options.environment}: deploy failed".toString()
        throw failure
    } finally {
        // the record of this deploy, whatever the outcome (records are named by environment and time)
        archiveArtifacts(artifacts: '**/.shipline/records/deploy-*.json', allowEmptyArchive: true)
    }
    currentBuild.description = ("${options.environment}: ${release.decision} " +
            "${release.task_definition.tokenize('/').last()}").toString()
    return release
}
