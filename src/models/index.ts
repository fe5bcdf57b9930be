import type { Sequelize } from 'sequelize';
import { User } from './user.js';
import { Session } from './session.js';
import { Follow } from './follow.js';
import { Post, PostLike } from './post.js';
import { Comment, CommentLike } from './comment.js';
import { Group, GroupMember } from './group.js';
import { DirectMessage, GroupMessage } from './message.js';
import { Call } from './call.js';

export { User, Session, Follow, Post, PostLike, Comment, CommentLike, Group, GroupMember, DirectMessage, GroupMessage, Call };

/** Binds every model to this connection and declares the associations used by queries. */
export function initModels(sequelize: Sequelize): void {
  for (const model of [User, Session, Follow, Post, PostLike, Comment, CommentLike, Group, GroupMember, DirectMessage, GroupMessage, Call]) {
    model.initModel(sequelize);
  }
  Post.belongsTo(User, { as: 'author', foreignKey: 'authorId' });
  Comment.belongsTo(User, { as: 'author', foreignKey: 'authorId' });
  Group.belongsTo(User, { as: 'creator', foreignKey: 'creatorId' });
  GroupMember.belongsTo(User, { as: 'user', foreignKey: 'userId' });
  GroupMember.belongsTo(Group, { as: 'group', foreignKey: 'groupId' });
  DirectMessage.belongsTo(User, { as: 'sender', foreignKey: 'senderId' });
  DirectMessage.belongsTo(User, { as: 'receiver', foreignKey: 'receiverId' });
  GroupMessage.belongsTo(User, { as: 'sender', foreignKey: 'senderId' });
  Session.belongsTo(User, { as: 'user', foreignKey: 'userId' });
  Follow.belongsTo(User, { as: 'follower', foreignKey: 'followerId' });
  Follow.belongsTo(User, { as: 'following', foreignKey: 'followingId' });
}
