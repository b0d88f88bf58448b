/** The response shapes of the CompreFace-compatible surface's OpenAPI document (openapi.ts). */
type Obj = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const int = { type: 'integer' };
const num = { type: 'number' };
const str = { type: 'string' };
export const FACE_REF = {
  type: 'object',
  required: ['image_id', 'subject'],
  properties: { image_id: str, subject: str },
};

export const SCHEMAS: Record<string, Obj> = {
  Error: {
    type: 'object',
    required: ['message', 'code'],
    properties: {
      message: str,
      code: { ...int, description: "CompreFace's code" },
      veil_code: { ...str, description: "Veil's code" },
    },
  },
  Box: {
    type: 'object',
    properties: { probability: num, x_max: int, y_max: int, x_min: int, y_min: int },
  },
  Face: {
    type: 'object',
    required: ['box'],
    properties: {
      box: ref('Box'),
      landmarks: { type: 'array', items: { type: 'array', items: int } },
      pose: { type: 'object', properties: { pitch: num, roll: num, yaw: num } },
      execution_time: { type: 'object', additionalProperties: num },
    },
  },
  Versions: { type: 'object', additionalProperties: str },
  Recognition: {
    type: 'object',
    properties: {
      result: {
        type: 'array',
        items: {
          allOf: [
            ref('Face'),
            {
              type: 'object',
              properties: {
                subjects: {
                  type: 'array',
                  description:
                    'Matches at or above the decision threshold (0.60 on this scale), best first; empty when none.',
                  items: { type: 'object', properties: { subject: str, similarity: num } },
                },
              },
            },
          ],
        },
      },
      plugins_versions: ref('Versions'),
    },
  },
  FaceVerification: {
    type: 'object',
    properties: {
      result: {
        type: 'array',
        items: { allOf: [ref('Face'), { type: 'object', properties: { similarity: num } }] },
      },
      plugins_versions: ref('Versions'),
    },
  },
  Detection: {
    type: 'object',
    properties: { result: { type: 'array', items: ref('Face') }, plugins_versions: ref('Versions') },
  },
  Verification: {
    type: 'object',
    properties: {
      result: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            source_image_face: ref('Face'),
            face_matches: {
              type: 'array',
              items: { allOf: [ref('Face'), { type: 'object', properties: { similarity: num } }] },
            },
            plugins_versions: ref('Versions'),
          },
        },
      },
    },
  },
  FacePage: {
    type: 'object',
    properties: {
      faces: { type: 'array', items: FACE_REF },
      page_number: int,
      page_size: int,
      total_pages: int,
      total_elements: int,
    },
  },
};
