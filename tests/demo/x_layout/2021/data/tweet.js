window.YTD.tweet.part0 = [ {
  "tweet" : {
    "retweeted" : false,
    "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
    "entities" : {
      "hashtags" : [ {
        "text" : "RoadSafety",
        "indices" : [ "27", "38" ]
      } ],
      "symbols" : [ ],
      "user_mentions" : [ ],
      "urls" : [ ]
    },
    "display_text_range" : [ "0", "40" ],
    "favorite_count" : "7",
    "id_str" : "1370000000000000001",
    "truncated" : false,
    "retweet_count" : "2",
    "id" : "1370000000000000001",
    "created_at" : "Mon Mar 15 09:00:00 +0000 2021",
    "favorited" : false,
    "full_text" : "Slow down near schools 🚸 #RoadSafety ✅",
    "lang" : "en"
  }
} ]