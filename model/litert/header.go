package litert

import (
	"fmt"
	"os"
)

// tfliteIdentifier is the FlatBuffers file identifier of a TFLite model
// (schema version 3), at bytes 4 to 8 of the file.
const tfliteIdentifier = "TFL3"

// checkFile refuses a file that is not a well-formed TFLite FlatBuffer
// before LiteRT reads it: LiteRT does not verify the buffer, and a wrong
// identifier or an offset past the end of a truncated file crashes the
// process at times instead of returning its error.
func checkFile(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read TFLite model: %w", err)
	}
	if len(b) < 8 {
		return fmt.Errorf("read TFLite model %s (not a valid .tflite file: %d bytes)", file, len(b))
	}
	if string(b[4:8]) != tfliteIdentifier {
		return fmt.Errorf("read TFLite model %s (not a valid .tflite file: identifier %q, want %q)", file, b[4:8], tfliteIdentifier)
	}
	if err := verify(b); err != nil {
		return fmt.Errorf("read TFLite model %s (not a valid .tflite file: %w)", file, err)
	}
	return nil
}
