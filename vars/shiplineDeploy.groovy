import io.shipline.CliStep
import io.shipline.StepSpec

/**
 * shiplineDeploy(args): 'shipline deploy' on this agent: deploy a release to an environment and judge success
 * on the deployment this run created, then archive the deployment record and describe the build. One deploy per
 * service at a time is the CLI's deploy lease (AWS-side, across controllers and CLI users; the run id is this
 * build's BUILD_TAG): another deploy is refused, or waits with wait_for_lease. A deploy paused at a point of
 * deploy.pause_at (exit 6) does not fail the build: it returns [paused: true, point: ..., message: ...] so the
 * pipeline can ask with `input` outside any node, then call shiplineDeploy(..., resume: true). Several services
 * (service: [a, b] or all: true) deploy in parallel in this one call; the result names how each ended.
 * Parameters, return value and an example: shiplineDeploy.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    Map options = StepSpec.checked(this, 'shiplineDeploy', args).withDefaults(args)
    Map release = null
    try {
        release = CliStep.run(this, 'shiplineDeploy', args, [6])
    } catch (failure) {
        currentBuild.description = "${options.environment}: deploy failed".toString()
        throw failure
    } finally {
        // the record of this deploy, whatever the outcome (records are named by environment and time)
        archiveArtifacts(artifacts: '**/.shipline/records/deploy-*.json', allowEmptyArchive: true)
    }
    if (release.exit_code == 6) {  // several services: those paused are named in the message
        currentBuild.description = "${options.environment}: paused${release.point ? " at ${release.point}" : ''}"
                .toString()
        return [paused: true, point: release.point, release: release.release, message: release.message]
    }
    String deployed = release.services ? "${release.services.size()} services" :
            release.task_definition.tokenize('/').last()
    currentBuild.description = "${options.environment}: ${release.decision} ${deployed}".toString()
    return release
}
