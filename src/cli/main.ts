/** `nbf <command>`: dispatch to command modules. Each returns an exit code. */
import { demo, DEMO_SUMMARY, DEMO_USAGE } from './demo.js';
import { synth, SYNTH_USAGE } from './synth.js';
import { train, TRAIN_SUMMARY, TRAIN_USAGE } from './train.js';
import { fit, evalCommand, FIT_SUMMARY, FIT_USAGE, EVAL_SUMMARY, EVAL_USAGE } from './fit.js';
import { landmarks, LANDMARKS_SUMMARY, LANDMARKS_USAGE } from './landmarks.js';
import { evalSegmenterCommand, fitterOrSegmenter, segment, trainSegmenterCommand, EVAL_SEGMENTER_USAGE, SEGMENT_SUMMARY, SEGMENT_USAGE, TRAIN_SEGMENTER_USAGE } from './segmenter.js';
import { experiment, EXPERIMENT_SUMMARY, EXPERIMENT_USAGE } from './experiment.js';
import { convertBodyModel, pose, CONVERT_BODY_MODEL_SUMMARY, CONVERT_BODY_MODEL_USAGE, POSE_SUMMARY, POSE_USAGE } from './body-model.js';

export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  demo: { summary: DEMO_SUMMARY, usage: DEMO_USAGE, run: (argv) => demo(argv) },
  'convert-body-model': { summary: CONVERT_BODY_MODEL_SUMMARY, usage: CONVERT_BODY_MODEL_USAGE, run: (argv) => convertBodyModel(argv) },
  pose: { summary: POSE_SUMMARY, usage: POSE_USAGE, run: (argv) => pose(argv) },
  fit: { summary: FIT_SUMMARY, usage: FIT_USAGE, run: fit },
  landmarks: { summary: LANDMARKS_SUMMARY, usage: LANDMARKS_USAGE, run: landmarks },
  segment: { summary: SEGMENT_SUMMARY, usage: SEGMENT_USAGE, run: segment },
  eval: {
    summary: `${EVAL_SUMMARY}; or the segmenter's mIoU beside the all-background floor`,
    usage: `${EVAL_USAGE}\n       ${EVAL_SEGMENTER_USAGE}`,
    run: fitterOrSegmenter('eval', evalCommand, evalSegmenterCommand, `${EVAL_USAGE}\n       ${EVAL_SEGMENTER_USAGE}`),
  },
  train: {
    summary: `${TRAIN_SUMMARY}; or the segmenter (picture → part labels)`,
    usage: `${TRAIN_USAGE}\n       ${TRAIN_SEGMENTER_USAGE}`,
    run: fitterOrSegmenter('train', train, trainSegmenterCommand, `${TRAIN_USAGE}\n       ${TRAIN_SEGMENTER_USAGE}`),
  },
  experiment: { summary: EXPERIMENT_SUMMARY, usage: EXPERIMENT_USAGE, run: experiment },
  synth: { summary: 'render synthetic training samples (part maps, RGB, labels, json) on the GPU', usage: SYNTH_USAGE, run: synth },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'nbf — Neural Body Fitting on a WebGL2 tensor runtime',
    '',
    'usage: nbf <command> [options]   (nbf <command> --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 1;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`nbf: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    const err = e as Error;
    console.error(`nbf ${name}: ${err.name === 'Error' ? '' : err.name + ': '}${err.message}`);
    if (process.env.NBF_DEBUG) console.error(err.stack);
    return 1;
  }
}
