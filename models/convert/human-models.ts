// The TF.js models engram converts from the @vladmandic/human npm package: where each comes from (with
// the sha256 of the files as 3.3.6 ships them), what it is for, and how its input must be prepared.
import type { ImagePreprocess } from '../manifest/schema.js';
import { ModelTask } from '../manifest/schema.js';
import { COCO_LABELS } from './coco-labels.js';

export const HUMAN_PACKAGE = '@vladmandic/human';
export const HUMAN_VERSION = '3.3.6';

/** Bump when the converter's output for the same input changes, so setup converts again. */
export const CONVERTER_VERSION = 1;

export interface HumanModel {
  /** engram's model name (models folder and manifest). */
  name: string;
  /** Base name of the files in the package's models/ folder. */
  source: string;
  task: ModelTask;
  /** Graph role in the manifest. */
  role: string;
  description: string;
  license: string;
  /** sha256 of models/<source>.json and of each weight shard, as the pinned package ships them. */
  sha256: Record<string, string>;
  /** 'dynamic' where the graph allows any batch; 1 where the graph was traced at batch 1 and depends on it. */
  batch: 'dynamic' | 1;
  image: ImagePreprocess;
  extra: Record<string, unknown>;
  /** Graph outputs to keep (default: the signature's). */
  outputs?: string[];
  /** [height, width] to convert the image input at, when not the traced size (convertTfjsGraph inputSize). */
  inputSize?: [number, number];
  /** Quantize the converted graph to int8 (models/convert/quantize.ts), calibrated on the package's own photos. */
  int8?: boolean;
  /**
   * Converted only when named (`engram models convert NAME`) or selected in config, not by a plain
   * `models convert` or setup: for a model no default uses, whose making costs more than it is worth
   * to every install (the int8 detector's calibration is about a minute of CPU).
   */
  onRequest?: boolean;
}

/** Bump when the int8 pass or its calibration changes, so setup quantizes again. */
export const QUANTIZER_VERSION = 1;

/**
 * The calibration range: all but this fraction of each activation's values on either side
 * (models/convert/activation-ranges.ts); the share of values int8 clips to win finer steps.
 */
export const CALIBRATION_TAIL = 1e-4;

/** Pixel values 0..255 reach the model unchanged: (v/255 - 0) / (1/255). */
const RAW_0_255 = { mean: [0, 0, 0] as [number, number, number], std: [1 / 255, 1 / 255, 1 / 255] as [number, number, number] };

export const HUMAN_MODELS: readonly HumanModel[] = [
  {
    name: 'centernet-coco',
    source: 'centernet',
    task: ModelTask.ObjectDetection,
    role: 'detector',
    description: 'CenterNet on MobileNetV3, COCO-80 objects; tower_0/detections is [1,100,6] = x1, y1, x2, y2 (input pixels), score, class id (index into extra.labels)',
    license: 'MIT (as shipped in @vladmandic/human); weights trained by github.com/610265158/mobilenetv3_centernet',
    sha256: {
      'models/centernet.json': 'bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05',
      'models/centernet.bin': '1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef',
    },
    // tower_0/BatchGather reshapes the box map to [16384, 4] and the result to [1, 100, 4].
    batch: 1,
    image: { size: 512, crop: 'stretch', ...RAW_0_255 },
    extra: {
      labels: COCO_LABELS,
      input: { layout: 'NHWC', dtype: 'float32', range: [0, 255], resize: 'stretch the whole frame to 512x512 (bilinear), as human src/object/centernet.ts' },
      outputs: { detections: 'tower_0/detections', heatmap: 'tower_0/keypoints', sizes: 'tower_0/wh' },
    },
  },
  {
    // The same weights at a smaller fixed input, for changed-region crops (pipelines/perceive/detect-window.ts).
    // The in-graph top-100 decode reads constants of the traced 128x128 map (a reshape to 16384 rows,
    // a row width of 128), so it is left out and models/runtime/centernet-maps.ts decodes the maps.
    name: 'centernet-coco-320',
    source: 'centernet',
    task: ModelTask.ObjectDetection,
    role: 'crops',
    description: 'CenterNet on MobileNetV3, COCO-80, converted at 320x320 for crops of the changed region: tower_0/keypoints [N,80,80,80] class heatmap (sigmoid) and tower_0/wh [N,80,80,4] = left, top, right, bottom distances (input pixels) from each cell centre x 4; decoded in TypeScript',
    license: 'MIT (as shipped in @vladmandic/human); weights trained by github.com/610265158/mobilenetv3_centernet',
    sha256: {
      'models/centernet.json': 'bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05',
      'models/centernet.bin': '1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef',
    },
    batch: 'dynamic',
    inputSize: [320, 320],
    outputs: ['tower_0/keypoints', 'tower_0/wh'],
    image: { size: 320, crop: 'stretch', ...RAW_0_255 },
    extra: {
      labels: COCO_LABELS,
      cropsFor: 'centernet-coco',
      stride: 4,
      input: { layout: 'NHWC', dtype: 'float32', range: [0, 255], resize: 'a window of the frame (the changed region, padded, with the frame\'s aspect) stretched to 320x320 (bilinear)' },
      outputs: { heatmap: 'tower_0/keypoints', sizes: 'tower_0/wh' },
    },
  },
  {
    // The same graph as centernet-coco, quantized to int8 after conversion: per-channel symmetric
    // int8 weights, uint8 activations with ranges calibrated on photos shipped in the package.
    name: 'centernet-coco-int8',
    source: 'centernet',
    task: ModelTask.ObjectDetection,
    role: 'detector',
    description: 'CenterNet on MobileNetV3, COCO-80, statically quantized to int8 by engram (QDQ: per-channel symmetric int8 convolution weights, uint8 activations); outputs as centernet-coco; select with models.detector',
    license: 'MIT (as shipped in @vladmandic/human); weights trained by github.com/610265158/mobilenetv3_centernet',
    sha256: {
      'models/centernet.json': 'bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05',
      'models/centernet.bin': '1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef',
    },
    batch: 1,
    int8: true,
    // Not faster than the float graph on the CPUs measured, and it sees less (DETECT-NOTES.md "int8").
    onRequest: true,
    image: { size: 512, crop: 'stretch', ...RAW_0_255 },
    extra: {
      labels: COCO_LABELS,
      input: { layout: 'NHWC', dtype: 'float32', range: [0, 255], resize: 'stretch the whole frame to 512x512 (bilinear), as human src/object/centernet.ts' },
      outputs: { detections: 'tower_0/detections', heatmap: 'tower_0/keypoints', sizes: 'tower_0/wh' },
    },
  },
  {
    name: 'blazeface',
    source: 'blazeface',
    task: ModelTask.FaceDetection,
    role: 'detector',
    description: 'BlazeFace (MediaPipe, back camera), 256x256: 896 anchors in two heads (512 at 16x16, 384 at 8x8), scores and 16 box/keypoint regressors each',
    license: 'Apache-2.0 (MediaPipe BlazeFace), as shipped in @vladmandic/human (MIT)',
    sha256: {
      'models/blazeface.json': 'cd7bbfc078270572beb39f9e5ae67aadbd50b5e67cff37e6d4f6b3ea39312e5f',
      'models/blazeface.bin': 'dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72',
    },
    batch: 'dynamic',
    image: { size: 256, crop: 'stretch', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    extra: {
      input: { layout: 'NHWC', dtype: 'float32', range: [-1, 1], resize: 'human pads the frame to a square (centred) when face.detector.square is set, then resizes to 256x256 and maps v -> v/127.5 - 1' },
      anchors: 'human src/face/util.ts generateAnchors(256): strides 16 and 32, 2 and 6 anchors per cell',
    },
  },
  {
    name: 'faceres',
    source: 'faceres',
    task: ModelTask.FaceDescription,
    role: 'descriptor',
    description: 'HSE FaceRes (MobileNet): 1024-d face descriptor (global_pooling/Mean), gender (sigmoid) and age (softmax over 100 years) heads, on a 224x224 face crop',
    license: 'MIT (as shipped in @vladmandic/human); weights from github.com/HSE-asavchenko/HSE_FaceRec_tf',
    sha256: {
      'models/faceres.json': '5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df',
      'models/faceres.bin': '2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b',
    },
    batch: 'dynamic',
    image: { size: 224, crop: 'stretch', ...RAW_0_255 },
    extra: {
      input: { layout: 'NHWC', dtype: 'float32', range: [0, 255], resize: 'the face box crop stretched to 224x224 (bilinear), as human src/face/faceres.ts' },
      outputs: { descriptor: 'global_pooling/Mean', gender: 'gender_pred/Sigmoid:0', age: 'age_pred/Softmax:0' },
    },
  },
  {
    name: 'movenet-lightning',
    source: 'movenet-lightning',
    task: ModelTask.PoseEstimation,
    role: 'pose',
    description: 'MoveNet SinglePose Lightning v4: 17 COCO keypoints as [1,1,17,3] = y, x (0..1 of the input), score',
    license: 'Apache-2.0 (TF Hub movenet/singlepose/lightning/4), as shipped in @vladmandic/human (MIT)',
    sha256: {
      'models/movenet-lightning.json': 'df8cbde44d00f533ccc4916a7c6ebc17316532fb3fadad114ec667fef22872e9',
      'models/movenet-lightning.bin': 'bf97bc10d9c8a11200b0190ed64ce039b6252f1aff7cb552aca99b3d191c2f34',
    },
    // The graph unstacks dim 0 and gathers with batch index 0.
    batch: 1,
    image: { size: 192, crop: 'stretch', ...RAW_0_255 },
    extra: {
      input: { layout: 'NHWC', dtype: 'int32', range: [0, 255], resize: 'human pads the frame to a square (centred), resizes to 192x192 and casts to int32' },
      keypoints: ['nose', 'leftEye', 'rightEye', 'leftEar', 'rightEar', 'leftShoulder', 'rightShoulder', 'leftElbow', 'rightElbow', 'leftWrist', 'rightWrist', 'leftHip', 'rightHip', 'leftKnee', 'rightKnee', 'leftAnkle', 'rightAnkle'],
    },
  },
];
