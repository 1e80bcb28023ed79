Grailbird.data.tweets_2014_02 = 
[ {
  "source" : "\u003Ca href=\"http:\/\/twitter.com\" rel=\"nofollow\"\u003ETwitter Web Client\u003C\/a\u003E",
  "entities" : {
    "user_mentions" : [ ],
    "media" : [ ],
    "hashtags" : [ {
      "text" : "flood",
      "indices" : [ 30, 36 ]
    } ],
    "urls" : [ ]
  },
  "geo" : { },
  "id_str" : "430000000000000001",
  "text" : "Caf\u00E9 Road closed by water.\n#flood",
  "id" : 430000000000000001,
  "created_at" : "2014-02-02 08:00:22 +0000",
  "user" : {
    "name" : "Examplefordshire Police",
    "screen_name" : "ExampleshirePolice",
    "protected" : false,
    "id_str" : "1200000001",
    "id" : 1200000001,
    "verified" : false
  }
} ]