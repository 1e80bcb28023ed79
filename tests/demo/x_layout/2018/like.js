window.YTD.like.part0 = [ {
  "like" : {
    "tweetId" : "1027000000000000001"
  }
}, {
  "like" : {
    "tweetId" : "1027000000000000002"
  }
} ]