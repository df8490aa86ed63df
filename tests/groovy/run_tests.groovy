/*
 * The Groovy test runner: compiles every library file (vars/, src/) with this Groovy, the one Jenkins'
 * pipeline engine runs, then runs every tests/groovy/*Test.groovy class with JUnit 4.
 * Usage: groovy tests/groovy/run_tests.groovy ROOT RESULT_JSON
 * Writes one result per compiled file and per test; exits 1 if anything failed.
 */
import groovy.io.FileType
import groovy.json.JsonOutput
import org.junit.runner.Description
import org.junit.runner.JUnitCore
import org.junit.runner.notification.Failure
import org.junit.runner.notification.RunListener

File root = new File(args[0]).canonicalFile
File resultFile = new File(args[1])
GroovyClassLoader loader = new GroovyClassLoader(this.class.classLoader)
loader.addClasspath(new File(root, 'src').path)
loader.addClasspath(new File(root, 'tests/groovy').path)
// The pipeline harness, and stand-ins for the Jenkins classes the library names (@NonCPS).
loader.addClasspath(new File(root, 'tests/groovy/lib').path)
List results = []

List<File> sources = []
['vars', 'src'].each { dir ->
    File base = new File(root, dir)
    if (base.exists()) {
        base.eachFileRecurse(FileType.FILES) { if (it.name.endsWith('.groovy')) { sources << it } }
    }
}
sources.sort().each { File file ->
    String name = root.toPath().relativize(file.toPath()).toString()
    try {
        new GroovyClassLoader(loader).parseClass(file)  // compile only: src/ classes need no no-arg constructor
        results << [suite: 'compile', name: name, ok: true]
    } catch (Throwable error) {
        results << [suite: 'compile', name: name, ok: false, message: error.message]
    }
}

Map failures = [:]
JUnitCore junit = new JUnitCore()
junit.addListener(new RunListener() {
    void testFailure(Failure failure) { failures[failure.description.displayName] = failure.trace }
    void testFinished(Description description) {
        String trace = failures[description.displayName]
        results << [suite: description.className, name: description.methodName, ok: trace == null,
                    message: trace]
    }
})
List<File> testFiles = new File(root, 'tests/groovy').listFiles().findAll { it.name.endsWith('Test.groovy') }
junit.run(testFiles.sort().collect { loader.parseClass(it) } as Class[])

resultFile.text = JsonOutput.toJson(results)
System.exit(results.every { it.ok } ? 0 : 1)
