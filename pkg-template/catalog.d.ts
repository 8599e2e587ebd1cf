// Generated from the Rust catalog (src/events) by `cargo test --test catalog`.
// Do not edit: change the Rust structs and regenerate with WIRESYNC_BLESS=1.

export interface OrderStatusUpdate {
  /** The order. */
  orderId: string;
  /** New status, e.g. `"preparing"`, `"out_for_delivery"`, `"delivered"` (free text in the apps). */
  status: string;
  /** Human-readable message for the user. */
  message: string;
  /** ISO-8601 time of the change. */
  timestamp: string;
  /** ISO-8601 estimated delivery, when known. */
  estimatedDelivery?: string | null;
}

export interface GeoPoint {
  /** Degrees. */
  latitude: number;
  /** Degrees. */
  longitude: number;
  /** Street address, when known. */
  address?: string | null;
}

export interface DeliveryPartner {
  /** Name shown to the user. */
  name: string;
  /** Contact number. */
  phone: string;
  /** Vehicle description. */
  vehicle?: string | null;
}

export interface OrderLocationUpdate {
  /** The order. */
  orderId: string;
  /** Where the courier is. */
  location: GeoPoint;
  /** Metres left, when known. */
  distanceToDestination?: number | null;
  /** Who is delivering. */
  deliveryPartner?: DeliveryPartner | null;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface OrderEtaUpdate {
  /** The order. */
  orderId: string;
  /** ISO-8601 estimated arrival. */
  estimatedArrival: string;
  /** Delay against the first estimate, minutes. */
  delayMinutes?: number | null;
  /** ISO-8601 time. */
  timestamp: string;
}

export type SenderType = "user" | "agent";

export type AttachmentType = "image" | "file";

export interface ChatAttachment {
  /** Image or file. */
  type: AttachmentType;
  /** Where to fetch it. */
  url: string;
  /** File name. */
  name?: string | null;
}

export interface ChatMessage {
  /** The message. */
  messageId: string;
  /** The chat it belongs to. */
  chatId: string;
  /** Author id. */
  senderId: string;
  /** Author name. */
  senderName: string;
  /** User or agent. */
  senderType: SenderType;
  /** The text. */
  text: string;
  /** ISO-8601 time. */
  timestamp: string;
  /** Attached files. */
  attachments?: ChatAttachment[] | null;
}

export interface ChatTyping {
  /** The chat. */
  chatId: string;
  /** Who types. */
  userId: string;
  /** Their name. */
  userName: string;
  /** Started (true) or stopped (false). */
  isTyping: boolean;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface ChatRead {
  /** The chat. */
  chatId: string;
  /** The messages read. */
  messageIds: string[];
  /** Who read them. */
  readBy: string;
  /** ISO-8601 time. */
  timestamp: string;
}

export type Availability = "online" | "offline" | "away";

export interface ChatAgentStatus {
  /** The agent. */
  agentId: string;
  /** Their name. */
  agentName: string;
  /** Online, offline or away. */
  status: Availability;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface FeedNewPost {
  /** The post. */
  postId: string;
  /** Author id. */
  userId: string;
  /** Author name. */
  userName: string;
  /** Author avatar URL. */
  userAvatar?: string | null;
  /** Text. */
  content: string;
  /** Image URLs. */
  images?: string[] | null;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface FeedPostLiked {
  /** The post. */
  postId: string;
  /** The like. */
  likeId: string;
  /** Who liked. */
  userId: string;
  /** Their name. */
  userName: string;
  /** Likes now. */
  totalLikes: number;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface FeedPostCommented {
  /** The post. */
  postId: string;
  /** The comment. */
  commentId: string;
  /** Who commented. */
  userId: string;
  /** Their name. */
  userName: string;
  /** Their avatar URL. */
  userAvatar?: string | null;
  /** The comment text. */
  comment: string;
  /** Comments now. */
  totalComments: number;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface FeedUserFollowed {
  /** The follower. */
  followerId: string;
  /** Their name. */
  followerName: string;
  /** The one followed. */
  followedId: string;
  /** Their name. */
  followedName: string;
  /** ISO-8601 time. */
  timestamp: string;
}

export type LeaderboardPeriod = "daily" | "weekly" | "monthly" | "all-time";

export interface LeaderboardEntry {
  /** 1-based rank. */
  rank: number;
  /** The user. */
  userId: string;
  /** Their name. */
  fullName: string;
  /** Score. */
  coins: number;
  /** Achievements earned. */
  achievements: number;
  /** Tier name. */
  tier: string;
}

export interface LeaderboardUpdate {
  /** Which board. */
  period: LeaderboardPeriod;
  /** Rows, best first. */
  entries: LeaderboardEntry[];
  /** ISO-8601 time. */
  timestamp: string;
}

export interface LeaderboardRankChange {
  /** The user. */
  userId: string;
  /** Rank before. */
  oldRank: number;
  /** Rank now. */
  newRank: number;
  /** Score. */
  coins: number;
  /** `oldRank - newRank`. */
  rankChange: number;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface LeaderboardAchievement {
  /** The user. */
  userId: string;
  /** The achievement. */
  achievementId: string;
  /** Its name. */
  achievementName: string;
  /** Its description. */
  achievementDescription: string;
  /** Points earned. */
  points: number;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface CartItem {
  /** Line id. */
  id: string;
  /** The product. */
  productId: string;
  /** How many. */
  quantity: number;
  /** Unit price. */
  price: number;
}

export interface CartSync {
  /** The owner. */
  userId: string;
  /** The cart. */
  cartId: string;
  /** Its lines. */
  items: CartItem[];
  /** Sum of quantities. */
  totalItems: number;
  /** Sum of prices. */
  totalPrice: number;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface CartItemReserved {
  /** The cart. */
  cartId: string;
  /** The line. */
  itemId: string;
  /** The product. */
  productId: string;
  /** ISO-8601 end of the hold. */
  reservedUntil: string;
  /** ISO-8601 time. */
  timestamp: string;
}

export type ReleaseReason = "timeout" | "purchased" | "removed";

export interface CartItemReleased {
  /** The cart. */
  cartId: string;
  /** The line. */
  itemId: string;
  /** The product. */
  productId: string;
  /** Why. */
  reason: ReleaseReason;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface WalletBalance {
  /** Available USDC. */
  usdc: number;
  /** Locked funds. */
  locked: number;
  /** Total value. */
  totalValue: number;
}

export type BalanceChangeType = "deposit" | "withdrawal" | "reward" | "investment";

export interface BalanceChange {
  /** Signed amount. */
  amount: number;
  /** Its kind. */
  type: BalanceChangeType;
  /** The transaction. */
  transactionId: string;
}

export interface WalletBalanceUpdated {
  /** The owner. */
  userId: string;
  /** The wallet. */
  walletId: string;
  /** Balances now. */
  balance: WalletBalance;
  /** What changed. */
  change: BalanceChange;
  /** ISO-8601 time. */
  timestamp: string;
}

export type InvestmentStatus = "pending" | "confirmed";

export interface Investment {
  /** The investment. */
  id: string;
  /** The property. */
  propertyId: string;
  /** Its title. */
  propertyTitle: string;
  /** Tokens bought. */
  tokens: number;
  /** Amount paid. */
  amount: number;
  /** Pending or confirmed. */
  status: InvestmentStatus;
  /** On-chain hash, once confirmed. */
  transactionHash?: string | null;
}

export interface InvestmentCreated {
  /** The investor. */
  userId: string;
  /** The investment. */
  investmentId: string;
  /** Its details. */
  investment: Investment;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface InvestmentConfirmed {
  /** The investor. */
  userId: string;
  /** The investment. */
  investmentId: string;
  /** Its details (with `transactionHash`). */
  investment: Investment;
  /** ISO-8601 time. */
  timestamp: string;
}

export type TransactionType = "deposit" | "withdraw" | "investment" | "rental_income";

export type TransactionStatus = "pending" | "completed" | "failed";

export interface Transaction {
  /** The transaction. */
  id: string;
  /** Its kind. */
  type: TransactionType;
  /** Amount. */
  amount: number;
  /** State now. */
  status: TransactionStatus;
  /** State before. */
  previousStatus: TransactionStatus;
  /** Description shown to the user. */
  description: string;
}

export interface TransactionStatusChanged {
  /** The owner. */
  userId: string;
  /** The transaction. */
  transactionId: string;
  /** Its details. */
  transaction: Transaction;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface PropertyFunding {
  /** The property (some servers omit it). */
  id?: string | null;
  /** Its title (some servers omit it). */
  title?: string | null;
  /** Tokens issued. */
  totalTokens: number;
  /** Tokens sold. */
  soldTokens: number;
  /** Tokens left. */
  availableTokens: number;
  /** 0-100 %. */
  fundingProgress: number;
}

export interface PropertyFundingUpdated {
  /** The property. */
  propertyId: string;
  /** Its funding now. */
  property: PropertyFunding;
  /** ISO-8601 time. */
  timestamp: string;
}

export type PropertyStatus = "funding" | "construction" | "completed" | "generating-income";

export interface PropertyStatusInfo {
  /** The property. */
  id: string;
  /** Its title. */
  title: string;
  /** Status now. */
  status: PropertyStatus;
  /** Status before. */
  previousStatus: string;
}

export interface PropertyStatusChanged {
  /** The property. */
  propertyId: string;
  /** Its status. */
  property: PropertyStatusInfo;
  /** ISO-8601 time. */
  timestamp: string;
}

export type RewardType = "roi" | "referral" | "bonus";

export interface Reward {
  /** The reward. */
  id: string;
  /** Amount. */
  amount: number;
  /** Its kind. */
  type: RewardType;
  /** The investment it came from (ROI). */
  investmentId?: string | null;
  /** The property it came from (ROI). */
  propertyId?: string | null;
  /** The property's title. */
  propertyTitle?: string | null;
  /** Description shown to the user. */
  description: string;
}

export interface RewardDistributed {
  /** The user. */
  userId: string;
  /** The reward. */
  rewardId: string;
  /** Its details. */
  reward: Reward;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface NotificationData {
  /** A property. */
  propertyId?: string | null;
  /** An investment. */
  investmentId?: string | null;
  /** A transaction. */
  transactionId?: string | null;
  /** A deep link. */
  url?: string | null;
}

export interface Notification {
  /** The notification. */
  id: string;
  /** Its kind (free text, e.g. `"reward"`). */
  type: string;
  /** Title. */
  title: string;
  /** Body. */
  body: string;
  /** Links. */
  data?: NotificationData | null;
  /** Read yet. */
  read: boolean;
  /** ISO-8601 creation time. */
  createdAt: string;
}

export interface NotificationNew {
  /** The recipient. */
  userId: string;
  /** The notification. */
  notification: Notification;
  /** ISO-8601 time. */
  timestamp: string;
}

export type PortfolioField = "totalInvested" | "totalEarnings" | "totalROI";

export interface PortfolioChange {
  /** The figure. */
  field: PortfolioField;
  /** By how much. */
  amount: number;
  /** In percent. */
  percentage: number;
}

export interface Portfolio {
  /** Invested. */
  totalInvested: number;
  /** Current value. */
  totalValue: number;
  /** Return on investment, %. */
  totalROI: number;
  /** Earned. */
  totalEarnings: number;
  /** Monthly income. */
  monthlyIncome: number;
  /** The change that triggered the update. */
  change: PortfolioChange;
}

export interface PortfolioUpdated {
  /** The owner. */
  userId: string;
  /** Totals now. */
  portfolio: Portfolio;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface UserOnline {
  /** The user. */
  userId: string;
}

export interface UserOffline {
  /** The user. */
  userId: string;
  /** ISO-8601 last activity. */
  lastSeen?: string | null;
}

export interface ChatSendMessage {
  /** The chat. */
  chatId: string;
  /** The text (arrives as `text` in `chat:message`). */
  message: string;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface ChatTypingInput {
  /** The chat. */
  chatId: string;
  /** Started (true) or stopped (false). */
  isTyping: boolean;
  /** ISO-8601 time. */
  timestamp: string;
}

export interface ChatReadInput {
  /** The chat. */
  chatId: string;
  /** The messages read. */
  messageIds: string[];
  /** ISO-8601 time. */
  timestamp: string;
}

export interface NotificationRead {
  /** The notification. */
  notificationId: string;
}

export interface PresenceUpdate {
  /** Online, offline or away. */
  status: Availability;
}

/** Server → client catalog events: event name → payload. */
export interface CatalogListenEvents {
  "order:status_update": OrderStatusUpdate;
  "order:location_update": OrderLocationUpdate;
  "order:eta_update": OrderEtaUpdate;
  "chat:message": ChatMessage;
  "chat:typing": ChatTyping;
  "chat:read": ChatRead;
  "chat:agent_status": ChatAgentStatus;
  "feed:new_post": FeedNewPost;
  "feed:post_liked": FeedPostLiked;
  "feed:post_commented": FeedPostCommented;
  "feed:user_followed": FeedUserFollowed;
  "leaderboard:update": LeaderboardUpdate;
  "leaderboard:rank_change": LeaderboardRankChange;
  "leaderboard:achievement": LeaderboardAchievement;
  "cart:sync": CartSync;
  "cart:item_reserved": CartItemReserved;
  "cart:item_released": CartItemReleased;
  "wallet:balance_updated": WalletBalanceUpdated;
  "investment:created": InvestmentCreated;
  "investment:confirmed": InvestmentConfirmed;
  "transaction:status_changed": TransactionStatusChanged;
  "property:funding_updated": PropertyFundingUpdated;
  "property:status_changed": PropertyStatusChanged;
  "reward:distributed": RewardDistributed;
  "notification:new": NotificationNew;
  "portfolio:updated": PortfolioUpdated;
  "user:online": UserOnline;
  "user:offline": UserOffline;
}

/** Client → server catalog events: event name → payload. */
export interface CatalogEmitEvents {
  "chat:send_message": ChatSendMessage;
  "chat:typing": ChatTypingInput;
  "chat:read": ChatReadInput;
  "notification:read": NotificationRead;
  "presence:update": PresenceUpdate;
}
