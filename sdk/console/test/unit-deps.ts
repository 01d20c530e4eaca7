// What the unit tests take from the SDK, including the generated error-detail
// messages the SDK itself does not re-export.
export * from "@bank/sdk";
export { BadRequestSchema, ErrorInfoSchema } from "../../ts/src/gen/google/rpc/error_details_pb.js";
