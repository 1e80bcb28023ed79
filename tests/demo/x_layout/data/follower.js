window.YTD.follower.part0 = [
  {
    "follower" : {
      "accountId" : "1300000000000000042",
      "userLink" : "https://twitter.com/intent/user?user_id=1300000000000000042"
    }
  },
  {
    "follower" : {
      "accountId" : "1300000000000000043",
      "userLink" : "https://twitter.com/intent/user?user_id=1300000000000000043"
    }
  }
]