import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { installProxyContext } from './context.js'

export { ADDRESS_CLASSES, type AddressClass, classifyAddress, parseIp } from './address-class.js'
export {
  answersThroughFastify,
  hookHeaders,
  joinVary,
  mergeHookHeaders,
  PASSIVE_ON_SEND_PREFIX,
  passiveOnSend,
  RESPONSE_OWNED,
  setResponseOnReply,
} from './answer.js'
export { type ClientError, clientErrorHandler } from './client-error.js'
export { type ConnectionMemo, type ConnectionSlot, connectionMemo, connectionSlot } from './connection.js'
export {
  type AccessRecord,
  CONNECT_PATH,
  type ConnectGuard,
  FORWARD_PATH,
  installProxyContext,
  kForwardBridged,
  kOriginalTarget,
  type ProxyContext,
  type ResponseFilter,
  type UpstreamRecord,
  type UpstreamResponse,
} from './context.js'
export * from './errors.js'
export { type ForwardedElement, formatForwarded, forwardedNode, parseForwarded } from './forwarded.js'
export {
  addForwardingHeaders,
  compileTrust,
  FORWARDING_HEADERS,
  type ForwardingOptions,
  IDENTIFYING_HEADERS,
  type TrustFunction,
  type TrustProxy,
} from './forwarding.js'
export { connectionTokens, HOP_BY_HOP, type StripOptions, stripHopByHop } from './hop-by-hop.js'
export { formatAuthority, type NormalizedHost, normalizeHost, requestHost } from './host.js'
export {
  BY_CLOSE,
  BY_LENGTH,
  CHUNKED,
  CHUNKED_ERROR,
  CHUNKED_MORE,
  ChunkedDecoder,
  type DispatchHandler,
  directRead,
  type Exchange,
  type Framing,
  HEAD_INCOMPLETE,
  type HeadRead,
  Http1Pool,
  type Http1PoolOptions,
  type Http1Request,
  IDEMPOTENT_METHODS,
  NO_BODY,
  type RequestHead,
  type ResponseHead,
  ResponseHeadReader,
  requestHead,
  responseHeadEnd,
  sharedReadBuffer,
  watchIdle,
} from './http1/index.js'
export { answerAsFinalRecipient, maxForwards } from './max-forwards.js'
export { type InvalidOption, isPlainObject, type OptionChecks, optionChecks } from './option-checks.js'
export { clientAddress, peerAddress } from './peer.js'
export {
  HOOK_ORDER,
  PHASES,
  type Phase,
  type PhaseHook,
  type PhaseName,
  type PhaseOwner,
  phase,
  phaseHook,
} from './phases.js'
export {
  BUFFERED_BODY_LIMIT,
  type RelayCallbacks,
  type RelayDispatcher,
  type RelayRequest,
  relay,
  syncThresholdOf,
} from './relay.js'
export { errorBody, sendError, sendUpstreamResponse, writeRawError } from './respond.js'
export { preCacheStage } from './response-stages.js'
export { routeConfig } from './route-config.js'
export {
  hasEncodedControlInPath,
  type ProxyTarget,
  parseAbsoluteTarget,
  parseAuthorityTarget,
  parseHostHeader,
  type RequestForm,
  requestForm,
} from './target.js'
export {
  blamesUpstream,
  gatewayError,
  mayResend,
  type UpstreamFailure,
  upstreamFailure,
} from './upstream-failure.js'
export { appendVia, viaEntry, viaHasLoop } from './via.js'

/**
 * Registers only the shared context (`request.proxy` and request-target classification). Every proxykit
 * plugin installs it by itself; register this directly to read `request.proxy` in an app of your own.
 */
const proxyContextPlugin: FastifyPluginAsync = async (fastify) => {
  installProxyContext(fastify)
}

export const proxyContext = fp(proxyContextPlugin, { name: '@proxykit/core', fastify: '5.x' })
export default proxyContext
