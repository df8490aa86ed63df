import org.junit.Test

import static org.junit.Assert.assertEquals

/** shiplineVersion() returns the library's version, read through libraryResource as Jenkins would. */
class ShiplineVersionTest {
    static final File ROOT = new File(System.getProperty('shipline.root'))

    Script loadStep(String name) {
        Script step = new GroovyShell().parse(new File(ROOT, "vars/${name}.groovy"))
        step.metaClass.libraryResource = { String path -> new File(ROOT, "resources/${path}").text }
        return step
    }

    @Test
    void returnsTheVersionFromResources() {
        String expected = new File(ROOT, 'resources/io/shipline/VERSION').text.trim()
        assertEquals(expected, loadStep('shiplineVersion').call())
    }

    @Test
    void versionIsSemver() {
        assert loadStep('shiplineVersion').call() ==~ /\d+\.\d+\.\d+([.-][0-9A-Za-z.-]+)?/
    }
}
