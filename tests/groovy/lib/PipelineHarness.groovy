import com.cloudbees.groovy.cps.NonCPS
import groovy.json.JsonOutput
import groovy.json.JsonSlurperClassic
import org.junit.Assert

/**
 * A pipeline-step harness for the library's vars/ steps, in plain Groovy (JenkinsPipelineUnit is not
 * available here):
 * - loads vars/<step>.groovy with GroovyShell, src/ on the class path, as Jenkins loads a shared library;
 * - intercepts every call a step makes, to Jenkins steps and to other vars steps, and RECORDS it in `calls`;
 * - knows only the Jenkins steps in ALLOWED (tests/groovy/ALLOWED_STEPS.md): any other call fails the test;
 * - simulates the workspace with an in-memory file map, sh with a responder the test sets, error by throwing
 *   StepError, libraryResource from resources/, retry with its agent()/nonresumable() conditions, and
 *   readJSON/writeJSON with json-lib's quirks;
 * - fails the test when a step is called from a @NonCPS method (Jenkins cannot run steps there), when sh or
 *   a file step runs outside node, or when an sh script or label is a GString (values must go through env).
 */
class PipelineHarness {
    static final File ROOT = new File(System.getProperty('shipline.root'))
    static final String WORKSPACE = '/agent/workspace/app'
    static final String TMP = WORKSPACE + '@tmp'
    static final String VERSION = new File(ROOT, 'resources/io/shipline/VERSION').text.trim()
    static final String CLI = "/home/agent/.cache/shipline/venv-${VERSION}/bin/shipline"

    /** The Jenkins steps a library step may call (tests/groovy/ALLOWED_STEPS.md documents each). */
    static final Set<String> ALLOWED = ([
            'sh', 'writeFile', 'readFile', 'writeJSON', 'readJSON', 'fileExists', 'pwd', 'libraryResource',
            'error', 'echo', 'withEnv', 'withCredentials', 'retry', 'agent', 'nonresumable', 'node', 'stage',
            'parallel', 'input', 'lock', 'timeout', 'sleep', 'archiveArtifacts', 'junit', 'checkout',
    ] as Set).asImmutable()
    /** Steps that need a workspace, so a node (Jenkins: "Required context class hudson.FilePath is missing"). */
    static final Set<String> NEED_NODE = (['sh', 'writeFile', 'readFile', 'writeJSON', 'readJSON', 'fileExists',
                                           'pwd', 'archiveArtifacts', 'junit'] as Set).asImmutable()

    /** The build's environment (env.BRANCH_NAME, ...) and its currentBuild, as a Jenkinsfile sees them. */
    final Map<String, String> env = [:]
    final Map currentBuild = [:]

    /** Every call a step made, in order: Jenkins steps and vars steps. */
    final List<Call> calls = []
    /** Every sh that ran, as the responder saw it (with the environment withEnv set). */
    final List<ShCall> shRuns = []
    /** The simulated workspace: absolute path -> text. */
    final Map<String, String> files = [:]
    /** Answers each sh: gets the ShCall, returns the exit status (or the stdout with returnStdout). */
    Closure responder = { ShCall call -> Assert.fail("unexpected sh: ${call.label}") }

    /** Where the steps are: the library's vars/ (or a test's fixtures). */
    final File vars
    private final Map<String, Script> loaded = [:]
    /** Each vars file is compiled once per test run; every harness gets its own instances. */
    private static final Map<File, Class<Script>> COMPILED = [:]
    private final List<Map<String, String>> envStack = []
    private int nodeDepth = 0

    PipelineHarness(File vars = new File(ROOT, 'vars')) {
        this.vars = vars
    }

    /** Calls the vars step `name` as a Jenkinsfile would, outside any node. */
    Object call(String name, Object... args) {
        return dispatch(name, args)
    }

    /** Runs `body` inside a node, as a Jenkinsfile's `node('linux') { ... }` would (recorded). */
    Object inNode(Closure body) {
        return dispatch('node', ['linux', body] as Object[])
    }

    /** The recorded calls to `name`, as their argument lists. */
    List<List> callsTo(String name) {
        return calls.findAll { it.name == name }*.args
    }

    /** The named arguments of every recorded sh. */
    List<Map> shCalls() {
        return callsTo('sh').collect { it[0] as Map }
    }

    /** The params file each CLI sh was given ($SHIPLINE_PARAMS), parsed. */
    List<Map> cliParamsFiles() {
        return shRuns.findAll { it.env.SHIPLINE_PARAMS }.collect {
            new JsonSlurperClassic().parseText(files[it.env.SHIPLINE_PARAMS]) as Map
        }
    }

    /** Answers sh as an agent with the CLI installed: the install script prints the executable and the
     *  library's version; a CLI call writes `document(call)` to $SHIPLINE_RESULT (none when null) and
     *  exits with its exit_code. */
    void agentWithCli(Closure document) {
        responder = { ShCall call ->
            if (call.label == 'shipline: install the CLI') {
                return "${CLI}\n${VERSION}\n".toString()
            }
            Map written = document(call) as Map
            if (written != null) {
                files[call.env.SHIPLINE_RESULT] = JsonOutput.toJson(written)
            }
            return written == null ? 127 : written.exit_code
        }
    }

    /** A CLI result document as cli.py writes it. */
    static Map document(String command, int exitCode, Object result, String message = null) {
        return [shipline: VERSION, command: command, ok: exitCode == 0, exit_code: exitCode, result: result,
                error: message == null ? null : [type: 'ShiplineError', message: message, exit_code: exitCode]]
    }

    /** The steps.json entry of `step`. */
    static Map spec(String step) {
        return specs()[step]
    }

    /** Every step in steps.json, by name. */
    static Map<String, Map> specs() {
        return new JsonSlurperClassic().parse(new File(ROOT, 'resources/io/shipline/steps.json')).steps
    }

    /** Records the call, then runs the vars step of that name or simulates the allowed Jenkins step. */
    Object dispatch(String name, Object[] args) {
        assertNotCalledFromNonCps(name)
        calls << new Call(name, args as List, nodeDepth > 0)
        if (new File(vars, "${name}.groovy").isFile()) {
            return step(name).invokeMethod('call', args)
        }
        if (!(name in ALLOWED)) {
            Assert.fail("${name} is not a step the library may call: add it to " +
                    'tests/groovy/ALLOWED_STEPS.md and PipelineHarness.ALLOWED, or do not call it')
        }
        if (name in NEED_NODE && nodeDepth == 0) {
            Assert.fail("${name} outside node: Jenkins has no workspace there")
        }
        return simulate(name, args as List)
    }

    private Script step(String name) {
        if (!loaded.containsKey(name)) {
            File file = new File(vars, "${name}.groovy")
            if (!COMPILED.containsKey(file)) {
                COMPILED[file] = new GroovyShell(PipelineHarness.classLoader).parse(file).getClass()
            }
            Script script = COMPILED[file].newInstance() as Script
            script.binding = new Binding([env: env, scm: [type: 'GitSCM'], currentBuild: currentBuild])
            PipelineHarness harness = this
            script.metaClass.methodMissing = { String method, Object args ->
                harness.dispatch(method, args as Object[])
            }
            loaded[name] = script
        }
        return loaded[name]
    }

    private Object simulate(String name, List args) {
        Map named = args && args[0] instanceof Map ? args[0] as Map : [:]
        Closure body = args && args[-1] instanceof Closure ? args[-1] as Closure : null
        switch (name) {
            case 'libraryResource': return new File(ROOT, "resources/${args[0]}").getText('UTF-8')
            case 'error': throw new StepError(args[0].toString())
            case 'echo': return null
            case 'sh': return sh(args[0] instanceof Map ? named : [script: args[0]])
            case 'pwd': return named.tmp ? TMP : WORKSPACE
            case 'writeFile': files[path(named.file)] = named.text; return null
            case 'readFile': return read(named.file ?: args[0])
            case 'fileExists': return files.containsKey(path(named.file ?: args[0]))
            case 'writeJSON': files[path(named.file)] = JsonLib.text(named.json); return null
            case 'readJSON': return readJson(named)
            case 'withEnv': return withEnv(args[0] as List, body)
            case 'retry': return retry(named, body)
            case 'agent': return new Condition(name)
            case 'nonresumable': return new Condition(name)
            case 'node': return node(body)
            case 'parallel': return named.collectEntries { branch, Closure run -> [branch, run()] }
            default: return body?.call()
        }
    }

    private Object sh(Map named) {
        if (named.script instanceof GString || named.label instanceof GString) {
            Assert.fail("sh with a GString script or label: values must reach sh through withEnv, " +
                    "never interpolated: ${named}")
        }
        ShCall call = new ShCall(named.script as String, named.label as String, currentEnv())
        shRuns << call
        Object answer = responder(call)
        if (named.returnStdout) {
            return answer as String
        }
        int status = answer == null ? 0 : answer as int
        if (named.returnStatus) {
            return status
        }
        if (status != 0) {
            throw new StepError("script returned exit code ${status}")
        }
        return null
    }

    private Object readJson(Map named) {
        Object parsed = new JsonSlurperClassic().parseText(named.text ?: read(named.file))
        return named.returnPojo ? JsonLib.pojo(parsed) : JsonLib.fromObject(parsed)
    }

    private Object withEnv(List overrides, Closure body) {
        envStack << overrides.collectEntries { String entry ->
            int equals = entry.indexOf('=')
            [entry.substring(0, equals), entry.substring(equals + 1)]
        }
        try {
            return body()
        } finally {
            envStack.remove(envStack.size() - 1)
        }
    }

    /** retry(count:, conditions:): with conditions, only a matching failure runs the body again (an
     *  AgentLost for agent(), a NotResumable for nonresumable()); without, any failure does. */
    private Object retry(Map named, Closure body) {
        List<Condition> conditions = named.conditions ?: []
        for (int attempt = 1; ; attempt++) {
            try {
                return body()
            } catch (RuntimeException failure) {
                boolean retriable = conditions ? conditions.any { it.matches(failure) } : true
                if (!retriable || attempt >= (named.count as int)) {
                    throw failure
                }
            }
        }
    }

    private Object node(Closure body) {
        nodeDepth++
        try {
            return body()
        } finally {
            nodeDepth--
        }
    }

    private String read(Object file) {
        String text = files[path(file)]
        if (text == null) {
            throw new StepError("java.nio.file.NoSuchFileException: ${path(file)}")
        }
        return text
    }

    private static String path(Object file) {
        String name = file.toString()
        return name.startsWith('/') ? name : "${WORKSPACE}/${name}"
    }

    private Map<String, String> currentEnv() {
        Map<String, String> env = [:]
        envStack.each { env.putAll(it) }
        return env
    }

    /** Jenkins cannot run a step from a @NonCPS method: fail when one is on the stack. */
    private void assertNotCalledFromNonCps(String name) {
        Set<String> classes = loaded.values()*.getClass()*.name as Set
        for (StackTraceElement frame : new Throwable().stackTrace) {
            def closure = frame.className =~ '^(.+?)\\$_(.+?)_closure\\d+'
            String owner = closure ? closure[0][1] : frame.className
            String method = closure ? closure[0][2] : frame.methodName
            if ((owner.startsWith('io.shipline.') || owner in classes) && !owner.contains('$')) {
                Class type = owner in classes ? loaded.values()*.getClass().find { it.name == owner } :
                        Class.forName(owner, false, PipelineHarness.classLoader)
                if (type.declaredMethods.any { it.name == method && it.getAnnotation(NonCPS) }) {
                    Assert.fail("${name} called from @NonCPS ${owner}.${method}")
                }
            }
        }
    }

    /** One recorded call: the step's name, its arguments, and whether it ran inside a node (an executor held). */
    static class Call {
        final String name
        final List args
        final boolean inNode

        Call(String name, List args, boolean inNode = false) {
            this.name = name
            this.args = args
            this.inNode = inNode
        }

        String toString() {
            return "${name}${args}"
        }
    }

    /** One sh as the responder sees it: the script, its label and the environment withEnv set. */
    static class ShCall {
        final String script
        final String label
        final Map<String, String> env

        ShCall(String script, String label, Map<String, String> env) {
            this.script = script
            this.label = label
            this.env = env
        }
    }

    /** A retry condition, as agent() and nonresumable() return. */
    static class Condition {
        final String name

        Condition(String name) {
            this.name = name
        }

        boolean matches(Throwable failure) {
            return (name == 'agent' && failure instanceof AgentLost) ||
                    (name == 'nonresumable' && failure instanceof NotResumable)
        }
    }
}
