// Questions about people, as the reasoner sees the face identities: who exists (with names, read
// at answer time so naming shows at once) and who a photo shows. The photo goes through the same
// face stage as perception (detect, align, describe) and is matched against the identities'
// centroids with the assignment threshold.
import { ExampleError } from '../../config/errors.js';
import type { FacesOptions } from '../../config/schema.js';
import { perceiveFaces, type FaceModels } from '../faces/perceive-faces.js';
import type { DecodedImage, ReasonPeople } from './ports.js';

/** What the reasoner needs of the people store (PeopleStore satisfies it). */
export interface PeopleReads {
  identities(): Promise<{ id: string; name: string | null }[]>;
  match(descriptor: Float32Array): Promise<{ id: string; name: string | null; distance: number } | undefined>;
}

export class FaceRecognition implements ReasonPeople {
  readonly #people: PeopleReads;
  readonly #models: FaceModels;
  readonly #options: FacesOptions;

  constructor(people: PeopleReads, models: FaceModels, options: FacesOptions) {
    this.#people = people;
    this.#models = models;
    this.#options = options;
  }

  async identities(): Promise<{ id: string; name: string | null }[]> {
    return (await this.#people.identities()).map((p) => ({ id: p.id, name: p.name }));
  }

  async recognise(image: DecodedImage, signal: AbortSignal): Promise<{ id: string; name: string | null; distance: number } | undefined> {
    if (this.#models.faceDescriptorSize() === undefined) throw new ExampleError('face', 'query by face needs the blazeface and faceres models; they are not installed (npm run setup converts them)');
    // A photo someone chose is taken as it is: no sharpness gate (a phone photo scaled down may be soft).
    const faces = await perceiveFaces([image], { ...this.#options, enabled: true, minSharpness: 0 }, this.#models, signal);
    const area = (b: readonly number[]) => ((b[2] ?? 0) - (b[0] ?? 0)) * ((b[3] ?? 0) - (b[1] ?? 0));
    const face = [...faces].sort((a, b) => area(b.box) - area(a.box))[0];
    if (!face) throw new ExampleError('face', `no face found in the photo (${image.width}x${image.height}): use a photo where the face is in view, frontal and at least ${this.#options.minSize} px wide`);
    return this.#people.match(face.descriptor);
  }
}
