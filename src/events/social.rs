//! Social feeds and leaderboards.

payload! {
    /// `feed:new_post`: someone posted.
    FeedNewPost {
        /// The post.
        post_id "postId": String,
        /// Author id.
        user_id "userId": String,
        /// Author name.
        user_name "userName": String,
        /// Author avatar URL.
        user_avatar "userAvatar": Option<String>,
        /// Text.
        content "content": String,
        /// Image URLs.
        images "images": Option<Vec<String>>,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// `feed:post_liked`: a post got a like.
    FeedPostLiked {
        /// The post.
        post_id "postId": String,
        /// The like.
        like_id "likeId": String,
        /// Who liked.
        user_id "userId": String,
        /// Their name.
        user_name "userName": String,
        /// Likes now.
        total_likes "totalLikes": f64,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// `feed:post_commented`: a post got a comment.
    FeedPostCommented {
        /// The post.
        post_id "postId": String,
        /// The comment.
        comment_id "commentId": String,
        /// Who commented.
        user_id "userId": String,
        /// Their name.
        user_name "userName": String,
        /// Their avatar URL.
        user_avatar "userAvatar": Option<String>,
        /// The comment text.
        comment "comment": String,
        /// Comments now.
        total_comments "totalComments": f64,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// `feed:user_followed`: someone followed someone.
    FeedUserFollowed {
        /// The follower.
        follower_id "followerId": String,
        /// Their name.
        follower_name "followerName": String,
        /// The one followed.
        followed_id "followedId": String,
        /// Their name.
        followed_name "followedName": String,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

one_of! {
    /// Leaderboard period.
    LeaderboardPeriod { Daily = "daily", Weekly = "weekly", Monthly = "monthly", AllTime = "all-time" }
}

payload! {
    /// One row of a leaderboard.
    LeaderboardEntry {
        /// 1-based rank.
        rank "rank": f64,
        /// The user.
        user_id "userId": String,
        /// Their name.
        full_name "fullName": String,
        /// Score.
        coins "coins": f64,
        /// Achievements earned.
        achievements "achievements": f64,
        /// Tier name.
        tier "tier": String,
    }
}

payload! {
    /// `leaderboard:update`: the board for a period changed.
    LeaderboardUpdate {
        /// Which board.
        period "period": LeaderboardPeriod,
        /// Rows, best first.
        entries "entries": Vec<LeaderboardEntry>,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// `leaderboard:rank_change`: a user's rank moved.
    LeaderboardRankChange {
        /// The user.
        user_id "userId": String,
        /// Rank before.
        old_rank "oldRank": f64,
        /// Rank now.
        new_rank "newRank": f64,
        /// Score.
        coins "coins": f64,
        /// `oldRank - newRank`.
        rank_change "rankChange": f64,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}

payload! {
    /// `leaderboard:achievement`: a user earned an achievement.
    LeaderboardAchievement {
        /// The user.
        user_id "userId": String,
        /// The achievement.
        achievement_id "achievementId": String,
        /// Its name.
        achievement_name "achievementName": String,
        /// Its description.
        achievement_description "achievementDescription": String,
        /// Points earned.
        points "points": f64,
        /// ISO-8601 time.
        timestamp "timestamp": String,
    }
}
