import groovy.io.FileType
import io.shipline.CliCall
import io.shipline.CliInstall
import io.shipline.CliStep
import io.shipline.CliResult
import io.shipline.StepSpec
import org.junit.Test

import java.lang.reflect.Field
import java.lang.reflect.Modifier

import static org.junit.Assert.assertEquals
import static org.junit.Assert.assertTrue

/**
 * Every src/ class survives Java serialization, as Jenkins saves a running pipeline's objects to disk
 * between steps (a CPS program resumes from them after a controller restart).
 */
class SerializationTest {
    static final String STEPS_JSON = new File(PipelineHarness.ROOT, 'resources/io/shipline/steps.json').text

    /** A populated instance of each src/ class: every class must have one here. */
    static List<Object> samples() {
        List<Object> samples = PipelineHarness.specs().keySet().collect { StepSpec.parse(STEPS_JSON, it) }
        samples += CliStepsTest.STEPS.collect { name, step -> new CliCall(StepSpec.parse(STEPS_JSON, name), step.args) }
        samples << CliResult.of(PipelineHarness.document('publish', 0, [image: 'x', skipped: null, tags: ['a']]), 0)
        samples << CliResult.of(PipelineHarness.document('publish', 2, null, 'bad config'), 2)
        samples << CliResult.of(null, 127)
        samples << CliInstall.parse('/home/a/.cache/shipline/venv-1.0.0/bin/shipline\n1.0.0\n')
        samples << new CliStep()
        return samples
    }

    static Object roundTrip(Object value) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream()
        new ObjectOutputStream(bytes).withCloseable { it.writeObject(value) }
        ClassLoader loader = value.getClass().classLoader
        ObjectInputStream input = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray())) {
            protected Class<?> resolveClass(ObjectStreamClass type) {
                return Class.forName(type.name, false, loader)
            }
        }
        return input.withCloseable { it.readObject() }
    }

    /** The fields a class declares (not Groovy's metaClass), by name. */
    static Map fields(Object value) {
        List<Field> declared = value.getClass().declaredFields.findAll {
            !it.synthetic && !Modifier.isStatic(it.modifiers) && it.name != 'metaClass'
        }
        return declared.collectEntries { it.accessible = true; [it.name, it.get(value)] }
    }

    @Test
    void everySrcClassHasASample() {
        Set<String> classes = []
        new File(PipelineHarness.ROOT, 'src').eachFileRecurse(FileType.FILES) {
            if (it.name.endsWith('.groovy')) {
                classes << it.path.replaceAll('.*/src/', '').replace('/', '.') - '.groovy'
            }
        }
        assertEquals(classes, samples()*.getClass()*.name as Set)
    }

    @Test
    void everySrcClassIsSerializableAndSurvivesARoundTrip() {
        samples().each { Object sample ->
            assertTrue(sample.getClass().name, sample instanceof Serializable)
            Object copy = roundTrip(sample)
            assertEquals(sample.getClass(), copy.getClass())
            assertEquals(sample.getClass().name, fields(sample), fields(copy))
        }
    }
}
