// The bank mesh's TypeScript SDK: createBankClient() over grpc-web, errors in
// words (BankError), account-number checks, and every generated message and
// service of the public contracts (bank.*.v1).

export { type BankClient, type BankClientOptions, DEFAULT_TIMEOUT_MS, REQUEST_ID_HEADER, createBankClient } from "./client.js";
export { BankError, ERROR_DOMAIN, type FieldViolation, reasonText, toBankError } from "./errors.js";
export {
  ACCOUNT_NUMBER_DIGITS,
  type AccountNumberProblem,
  accountNumberCheckDigits,
  accountNumberProblem,
  accountNumberProblemText,
  formatAccountNumber,
  isValidAccountNumber,
  normalizeAccountNumber,
} from "./account-number.js";
export { newRequestId } from "./ids.js";

export * from "./gen/bank/common/v1/common_pb.js";
export * from "./gen/bank/auth/v1/auth_pb.js";
export * from "./gen/bank/account/v1/account_pb.js";
export * from "./gen/bank/transfer/v1/transfer_pb.js";
export * from "./gen/bank/finance/v1/finance_pb.js";
export * from "./gen/bank/events/v1/events_pb.js";
export * from "./gen/bank/analytics/v1/analytics_pb.js";
export { create, fromBinary, toBinary, toJson, fromJson } from "@bufbuild/protobuf";
export { type Timestamp, timestampDate, timestampFromDate, timestampNow } from "@bufbuild/protobuf/wkt";
export { Code, ConnectError } from "@connectrpc/connect";
