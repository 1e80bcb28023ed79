window.__THAR_CONFIG = {
  "userInfo" : {
    "accountId" : "1200000000000000001",
    "userName" : "ExampleshirePolice",
    "displayName" : "Examplefordshire Police"
  },
  "archiveInfo" : {
    "sizeBytes" : "5011433",
    "generationDate" : "2026-01-06T10:15:31.187Z",
    "isPartialArchive" : false,
    "maxPartSizeBytes" : "53687091200"
  },
  "readmeInfo" : {
    "fileName" : "data/README.txt",
    "directory" : "data/",
    "name" : "README.txt"
  },
  "dataTypes" : {
    "follower" : {
      "files" : [ {
        "fileName" : "data/follower.js",
        "globalName" : "YTD.follower.part0",
        "count" : "2"
      } ]
    },
    "noteTweet" : {
      "files" : [ {
        "fileName" : "data/note-tweet.js",
        "globalName" : "YTD.note_tweet.part0",
        "count" : "0"
      } ]
    },
    "tweets" : {
      "mediaDirectory" : "data/tweets_media",
      "files" : [ {
        "fileName" : "data/tweets.js",
        "globalName" : "YTD.tweets.part0",
        "count" : "2"
      }, {
        "fileName" : "data/tweets-part1.js",
        "globalName" : "YTD.tweets.part1",
        "count" : "0"
      } ]
    },
    "tweetsMedia" : {
      "mediaDirectory" : "data/tweets_media"
    },
    "adImpressions" : {
      "files" : [ ]
    },
    "accountLabel" : { }
  }
}