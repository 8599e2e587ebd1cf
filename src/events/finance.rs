//! Wallets, investments, transactions, properties, rewards and portfolios.

payload! {
    /// Wallet balances.
    WalletBalance {
        /// Available USDC.
        usdc "usdc": f64,
        /// Locked funds.
        locked "locked": f64,
        /// Total value.
        total_value "totalValue": f64,
    }
}

one_of! {
    /// What moved a wallet balance.
    BalanceChangeType { Deposit = "deposit", Withdrawal = "withdrawal", Reward = "reward", Investment = "investment" }
}

payload! {
    /// The movement behind a balance change.
    BalanceChange {
        /// Signed amount.
        amount "amount": f64,
        /// Its kind.
        kind "type": BalanceChangeType,
        /// The transaction.
        transaction_id "transactionId": String,
    }
}

payload! {
    /// `wallet:balance_updated`: a wallet balance changed.
    WalletBalanceUpdated {
        /// The owner.
        user_id "userId": String,
        /// The wallet.
        wallet_id "walletId": String,
        /// Balances now.
        balance "balance": WalletBalance,
        /// What changed.
        change "change": BalanceChange,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

one_of! {
    /// Investment state.
    InvestmentStatus { Pending = "pending", Confirmed = "confirmed" }
}

payload! {
    /// An investment in a property.
    Investment {
        /// The investment.
        id "id": String,
        /// The property.
        property_id "propertyId": String,
        /// Its title.
        property_title "propertyTitle": String,
        /// Tokens bought.
        tokens "tokens": f64,
        /// Amount paid.
        amount "amount": f64,
        /// Pending or confirmed.
        status "status": InvestmentStatus,
        /// On-chain hash, once confirmed.
        transaction_hash "transactionHash": Option<String>,
    }
}

payload! {
    /// `investment:created`: an investment was placed.
    InvestmentCreated {
        /// The investor.
        user_id "userId": String,
        /// The investment.
        investment_id "investmentId": String,
        /// Its details.
        investment "investment": Investment,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// `investment:confirmed`: an investment settled.
    InvestmentConfirmed {
        /// The investor.
        user_id "userId": String,
        /// The investment.
        investment_id "investmentId": String,
        /// Its details (with `transactionHash`).
        investment "investment": Investment,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

one_of! {
    /// Transaction kind.
    TransactionType { Deposit = "deposit", Withdraw = "withdraw", Investment = "investment", RentalIncome = "rental_income" }
}

one_of! {
    /// Transaction state.
    TransactionStatus { Pending = "pending", Completed = "completed", Failed = "failed" }
}

payload! {
    /// A money movement.
    Transaction {
        /// The transaction.
        id "id": String,
        /// Its kind.
        kind "type": TransactionType,
        /// Amount.
        amount "amount": f64,
        /// State now.
        status "status": TransactionStatus,
        /// State before.
        previous_status "previousStatus": TransactionStatus,
        /// Description shown to the user.
        description "description": String,
    }
}

payload! {
    /// `transaction:status_changed`: a transaction completed or failed.
    TransactionStatusChanged {
        /// The owner.
        user_id "userId": String,
        /// The transaction.
        transaction_id "transactionId": String,
        /// Its details.
        transaction "transaction": Transaction,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// A property's funding figures.
    PropertyFunding {
        /// The property (some servers omit it).
        id "id": Option<String>,
        /// Its title (some servers omit it).
        title "title": Option<String>,
        /// Tokens issued.
        total_tokens "totalTokens": f64,
        /// Tokens sold.
        sold_tokens "soldTokens": f64,
        /// Tokens left.
        available_tokens "availableTokens": f64,
        /// 0-100 %.
        funding_progress "fundingProgress": f64,
    }
}

payload! {
    /// `property:funding_updated`: tokens were sold.
    PropertyFundingUpdated {
        /// The property.
        property_id "propertyId": String,
        /// Its funding now.
        property "property": PropertyFunding,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

one_of! {
    /// Property lifecycle.
    PropertyStatus { Funding = "funding", Construction = "construction", Completed = "completed", GeneratingIncome = "generating-income" }
}

payload! {
    /// A property's status change.
    PropertyStatusInfo {
        /// The property.
        id "id": String,
        /// Its title.
        title "title": String,
        /// Status now.
        status "status": PropertyStatus,
        /// Status before.
        previous_status "previousStatus": String,
    }
}

payload! {
    /// `property:status_changed`: a property moved through its lifecycle.
    PropertyStatusChanged {
        /// The property.
        property_id "propertyId": String,
        /// Its status.
        property "property": PropertyStatusInfo,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

one_of! {
    /// Reward kind.
    RewardType { Roi = "roi", Referral = "referral", Bonus = "bonus" }
}

payload! {
    /// A reward paid to a user.
    Reward {
        /// The reward.
        id "id": String,
        /// Amount.
        amount "amount": f64,
        /// Its kind.
        kind "type": RewardType,
        /// The investment it came from (ROI).
        investment_id "investmentId": Option<String>,
        /// The property it came from (ROI).
        property_id "propertyId": Option<String>,
        /// The property's title.
        property_title "propertyTitle": Option<String>,
        /// Description shown to the user.
        description "description": String,
    }
}

payload! {
    /// `reward:distributed`: a reward was paid.
    RewardDistributed {
        /// The user.
        user_id "userId": String,
        /// The reward.
        reward_id "rewardId": String,
        /// Its details.
        reward "reward": Reward,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

one_of! {
    /// Which portfolio figure changed.
    PortfolioField { TotalInvested = "totalInvested", TotalEarnings = "totalEarnings", TotalRoi = "totalROI" }
}

payload! {
    /// What changed in a portfolio.
    PortfolioChange {
        /// The figure.
        field "field": PortfolioField,
        /// By how much.
        amount "amount": f64,
        /// In percent.
        percentage "percentage": f64,
    }
}

payload! {
    /// Portfolio totals.
    Portfolio {
        /// Invested.
        total_invested "totalInvested": f64,
        /// Current value.
        total_value "totalValue": f64,
        /// Return on investment, %.
        total_roi "totalROI": f64,
        /// Earned.
        total_earnings "totalEarnings": f64,
        /// Monthly income.
        monthly_income "monthlyIncome": f64,
        /// The change that triggered the update.
        change "change": PortfolioChange,
    }
}

payload! {
    /// `portfolio:updated`: portfolio totals changed.
    PortfolioUpdated {
        /// The owner.
        user_id "userId": String,
        /// Totals now.
        portfolio "portfolio": Portfolio,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}
