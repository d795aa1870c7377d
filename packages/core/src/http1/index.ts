export { CHUNKED_ERROR, CHUNKED_MORE, ChunkedDecoder } from './chunked.js'
export { watchIdle } from './deadlines.js'
export { type DispatchHandler, type Exchange, IDEMPOTENT_METHODS } from './exchange.js'
export { HEAD_INCOMPLETE, type HeadRead, ResponseHeadReader, responseHeadEnd } from './head-reader.js'
export { Http1Pool, type Http1PoolOptions, type Http1Request } from './pool.js'
export { directRead, sharedReadBuffer } from './read-buffer.js'
export { type RequestHead, requestHead } from './request-head.js'
export {
  BY_CLOSE,
  BY_LENGTH,
  CHUNKED,
  type Framing,
  NO_BODY,
  parseResponseHead,
  type ResponseHead,
} from './response-head.js'
