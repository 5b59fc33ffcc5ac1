// @huggingface/gguf on a local GGUF file, for scripts/bench.sh.
// `node read.mjs FILE` parses once (timed as a whole process by hyperfine);
// `node read.mjs --time FILE` times gguf() in-process (at least 5 runs and 2 s) and prints
// `@huggingface/gguf  file  gguf()  min_us  median_us  runs`.
import { gguf } from "@huggingface/gguf";
import { basename } from "node:path";

const timed = process.argv[2] === "--time";
const file = process.argv[timed ? 3 : 2];
const parse = () => gguf(file, { allowLocalFile: true });
if (!timed) {
    const { tensorInfos } = await parse();
    console.log(tensorInfos.length);
} else {
    await parse();
    const samples = [];
    const start = performance.now();
    while (samples.length < 5 || (performance.now() - start < 2000 && samples.length < 200)) {
        const t = performance.now();
        await parse();
        samples.push((performance.now() - t) * 1000);
    }
    samples.sort((a, b) => a - b);
    const med = samples[Math.floor(samples.length / 2)];
    console.log(`@huggingface/gguf\t${basename(file)}\tgguf()\t${samples[0].toFixed(1)}\t${med.toFixed(1)}\t${samples.length}`);
}
